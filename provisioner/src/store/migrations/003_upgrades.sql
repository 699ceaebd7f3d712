-- Each instance runs the recipe version it was set up with (or last upgraded
-- to). The recipe and its config templates are kept per version, so a newer
-- catalog changes nothing until the instance is upgraded, and a failed
-- upgrade can go back to exactly what ran before.
CREATE TABLE instance_recipes (
  instance_id text NOT NULL REFERENCES instances (id),
  version     text NOT NULL,
  -- JSON as text, not jsonb: jsonb reorders keys, and the order of env and
  -- health check keys goes into each container's config hash.
  recipe      text NOT NULL,
  templates   text NOT NULL DEFAULT '{}',
  -- A hash of recipe and templates: rewritten only when they change.
  digest      text NOT NULL,
  stored_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (instance_id, version)
);

CREATE TABLE upgrades (
  id              text PRIMARY KEY,
  instance_id     text NOT NULL REFERENCES instances (id),
  organization_id text NOT NULL,
  recipe          text NOT NULL,
  from_version    text NOT NULL,
  to_version      text NOT NULL,
  status          text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'backing-up', 'upgrading', 'rolling-back', 'succeeded', 'rolled-back', 'failed')),
  backup_id       text REFERENCES backups (id),
  error           text,
  error_detail    text,
  requested_by    text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz
);
CREATE INDEX upgrades_instance ON upgrades (instance_id, created_at DESC);
CREATE INDEX upgrades_open ON upgrades (created_at) WHERE status NOT IN ('succeeded', 'rolled-back', 'failed');

-- The health page lists the steps that failed or were retried lately.
CREATE INDEX events_problems ON events (seq) WHERE status IN ('retrying', 'failed');
