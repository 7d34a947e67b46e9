-- Schema 3: devices learn of erased and purged records from the pull feed (`purges`).
-- A laptop that pulled with an older version stepped over purges it did not understand, so
-- it pulls once more from the start: writes it has are recognised by their version and
-- skipped, and every purge is applied. No table changes.
UPDATE meta SET value = '0' WHERE key = 'sync.pull_cursor';
