CREATE TABLE "workers" (
	"id" text PRIMARY KEY NOT NULL,
	"process" text NOT NULL,
	"concurrency" integer NOT NULL,
	"jobs_running" integer DEFAULT 0 NOT NULL,
	"jobs_done" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "owner_worker" text;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "waiting_for" text;--> statement-breakpoint
ALTER TABLE "pipeline_steps" ADD COLUMN "worker_id" text;