-- Nothing to do on PostgreSQL: key writes reach other processes through LISTEN/NOTIFY. The
-- SQLite migration of the same number adds the counter its instances poll; the two folders keep
-- the same names so their versions stay aligned.
SELECT 1;
