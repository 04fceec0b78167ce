CREATE TABLE "environment_actions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"environment_id" uuid NOT NULL,
	"action" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"requested_by" uuid,
	"from_host_id" uuid,
	"target_host_id" uuid,
	"progress" integer DEFAULT 0 NOT NULL,
	"note" text,
	"result" jsonb,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "checksum" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "artifact" jsonb;--> statement-breakpoint
ALTER TABLE "environment_actions" ADD CONSTRAINT "environment_actions_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environment_actions" ADD CONSTRAINT "environment_actions_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environment_actions" ADD CONSTRAINT "environment_actions_from_host_id_hosts_id_fk" FOREIGN KEY ("from_host_id") REFERENCES "public"."hosts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environment_actions" ADD CONSTRAINT "environment_actions_target_host_id_hosts_id_fk" FOREIGN KEY ("target_host_id") REFERENCES "public"."hosts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "environment_actions_env_idx" ON "environment_actions" USING btree ("environment_id");--> statement-breakpoint
CREATE INDEX "environment_actions_status_idx" ON "environment_actions" USING btree ("status");