ALTER TABLE "pipeline_runs" ADD COLUMN "lease_owner" text;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "leased_until" timestamp with time zone;