ALTER TABLE "hosts" DROP CONSTRAINT "hosts_name_unique";--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "port" integer DEFAULT 22 NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "ssh_user" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "ssh_private_key" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "ssh_public_key" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "host_key_fingerprint" text;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "max_concurrency" integer DEFAULT 4 NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "last_check" jsonb;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "removed_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "hosts_name_idx" ON "hosts" USING btree ("name") WHERE "hosts"."removed_at" is null;