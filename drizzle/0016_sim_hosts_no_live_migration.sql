-- Custom SQL migration file, put your code below! ---- Simulated hosts never moved guests: their driver has no migration. Hosts seeded before this
-- listed "live-migration" among their features; drop it so the hosts list says what they do.
UPDATE "hosts" SET "features" = array_remove("features", 'live-migration') WHERE "kind" = 'sim';
