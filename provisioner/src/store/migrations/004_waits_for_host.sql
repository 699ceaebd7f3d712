-- A tool that failed because the host with its data was down names that
-- host here; the control loop tries it again once the host answers, also
-- after a restart of the provisioner. Cleared when it is tried again.
ALTER TABLE instances ADD COLUMN waits_for_host text;
