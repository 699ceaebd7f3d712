-- Backups of every instance (one restic snapshot each), whether each was
-- verified by restoring it into a scratch place, and every restore. Rows stay
-- after the snapshot is forgotten by the retention policy (forgotten_at).
CREATE TABLE backups (
  id                   text PRIMARY KEY,
  instance_id          text NOT NULL REFERENCES instances (id),
  organization_id      text NOT NULL,
  recipe               text NOT NULL,
  recipe_version       text NOT NULL,
  kind                 text NOT NULL CHECK (kind IN ('scheduled', 'manual', 'pre-restore', 'pre-upgrade')),
  status               text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  snapshot_id          text,
  -- What is in it: recipe volume names and dump names.
  volumes              text[] NOT NULL DEFAULT '{}',
  dumps                text[] NOT NULL DEFAULT '{}',
  size_bytes           bigint,
  file_count           integer,
  error                text,
  error_detail         text,
  verification         text NOT NULL DEFAULT 'pending' CHECK (verification IN ('pending', 'passed', 'failed', 'skipped')),
  verification_message text,
  verified_at          timestamptz,
  requested_by         text,
  started_at           timestamptz NOT NULL DEFAULT now(),
  finished_at          timestamptz,
  forgotten_at         timestamptz
);
CREATE INDEX backups_instance ON backups (instance_id, started_at DESC);
CREATE INDEX backups_organization ON backups (organization_id, started_at DESC);

CREATE TABLE restores (
  id               text PRIMARY KEY,
  instance_id      text NOT NULL REFERENCES instances (id),
  backup_id        text NOT NULL REFERENCES backups (id),
  -- The backup of the state before, taken first; the way back.
  safety_backup_id text REFERENCES backups (id),
  status           text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'rolled-back')),
  error            text,
  error_detail     text,
  requested_by     text,
  started_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
CREATE INDEX restores_instance ON restores (instance_id, started_at DESC);
