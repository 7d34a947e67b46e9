-- Tandem central server, SQLite dialect, schema version 4: database epochs (docs/protocol.md,
-- "Epochs"). Never edit a landed migration.

-- One row per epoch, oldest first by start_seq. A restore from a backup begins a new epoch
-- whose seqs start far above anything the database handed out before (restored_seq + 2^32),
-- so a seq lost with the restore is never handed out again; (restored_seq, start_seq) is the
-- lost range of that epoch. The first epoch starts at seq 1 and lost nothing.
CREATE TABLE epochs (
    id            TEXT PRIMARY KEY,
    start_seq     INTEGER NOT NULL UNIQUE,
    restored_seq  INTEGER NOT NULL,
    started_ms    INTEGER NOT NULL
);
INSERT INTO epochs (id, start_seq, restored_seq, started_ms)
VALUES (lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4'
              || substr(hex(randomblob(2)), 2) || '-'
              || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2)
              || '-' || hex(randomblob(6))),
        1, 0, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
