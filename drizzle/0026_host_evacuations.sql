CREATE TABLE "evacuation_moves" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"evacuation_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"environment_id" uuid NOT NULL,
	"from_host_id" uuid NOT NULL,
	"target_host_id" uuid,
	"mode" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"action_id" uuid,
	"result" jsonb,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "evacuations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"host_id" uuid,
	"host_kind" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"parallel" integer NOT NULL,
	"requested_by" uuid,
	"fingerprint" text,
	"outcome" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "evacuation_moves" ADD CONSTRAINT "evacuation_moves_evacuation_id_evacuations_id_fk" FOREIGN KEY ("evacuation_id") REFERENCES "public"."evacuations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evacuation_moves" ADD CONSTRAINT "evacuation_moves_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evacuation_moves" ADD CONSTRAINT "evacuation_moves_from_host_id_hosts_id_fk" FOREIGN KEY ("from_host_id") REFERENCES "public"."hosts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evacuation_moves" ADD CONSTRAINT "evacuation_moves_target_host_id_hosts_id_fk" FOREIGN KEY ("target_host_id") REFERENCES "public"."hosts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evacuation_moves" ADD CONSTRAINT "evacuation_moves_action_id_environment_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."environment_actions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evacuations" ADD CONSTRAINT "evacuations_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evacuations" ADD CONSTRAINT "evacuations_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "evacuation_moves_evacuation_idx" ON "evacuation_moves" USING btree ("evacuation_id","position");--> statement-breakpoint
CREATE INDEX "evacuation_moves_status_idx" ON "evacuation_moves" USING btree ("status");--> statement-breakpoint
CREATE INDEX "evacuations_host_idx" ON "evacuations" USING btree ("host_id","created_at");--> statement-breakpoint
CREATE INDEX "evacuations_status_idx" ON "evacuations" USING btree ("status");