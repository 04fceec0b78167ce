CREATE TABLE "image_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"image_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"built_at" timestamp with time zone DEFAULT now() NOT NULL,
	"recipe_hash" text,
	"changelog" text NOT NULL,
	"artifact" jsonb,
	"build_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "campaign_targets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"campaign_id" uuid NOT NULL,
	"environment_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"wave" integer,
	"status" text DEFAULT 'pending' NOT NULL,
	"from_version_id" uuid,
	"backup_action_id" uuid,
	"backup_id" uuid,
	"run_id" uuid,
	"rollback_run_id" uuid,
	"note" text,
	"error" text,
	"postponed_until" timestamp with time zone,
	"postponed_by" uuid,
	"started_at" timestamp with time zone,
	"reinstall_started_at" timestamp with time zone,
	"check_started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"rollback_started_at" timestamp with time zone,
	"rolled_back_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "campaigns" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"image_id" uuid NOT NULL,
	"target_version_id" uuid NOT NULL,
	"group_id" uuid,
	"selection" jsonb NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone NOT NULL,
	"wave_size" integer NOT NULL,
	"threshold_kind" text NOT NULL,
	"threshold_value" integer NOT NULL,
	"health_check" text DEFAULT 'ready-line' NOT NULL,
	"postpone_max_days" integer NOT NULL,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"reason" text,
	"wave" integer DEFAULT 0 NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"tick" integer DEFAULT 0 NOT NULL,
	"next_tick_at" timestamp with time zone,
	"tick_lease_until" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "current_version_id" uuid;--> statement-breakpoint
ALTER TABLE "environments" ADD COLUMN "image_version_id" uuid;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "image_version_id" uuid;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD COLUMN "restore_backup_id" uuid;--> statement-breakpoint
ALTER TABLE "image_versions" ADD CONSTRAINT "image_versions_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_from_version_id_image_versions_id_fk" FOREIGN KEY ("from_version_id") REFERENCES "public"."image_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_backup_action_id_environment_actions_id_fk" FOREIGN KEY ("backup_action_id") REFERENCES "public"."environment_actions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_run_id_pipeline_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."pipeline_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_rollback_run_id_pipeline_runs_id_fk" FOREIGN KEY ("rollback_run_id") REFERENCES "public"."pipeline_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_targets" ADD CONSTRAINT "campaign_targets_postponed_by_users_id_fk" FOREIGN KEY ("postponed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_target_version_id_image_versions_id_fk" FOREIGN KEY ("target_version_id") REFERENCES "public"."image_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "image_versions_number_idx" ON "image_versions" USING btree ("image_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "image_versions_build_idx" ON "image_versions" USING btree ("image_id","build_key");--> statement-breakpoint
CREATE UNIQUE INDEX "campaign_targets_env_idx" ON "campaign_targets" USING btree ("campaign_id","environment_id");--> statement-breakpoint
CREATE INDEX "campaign_targets_environment_idx" ON "campaign_targets" USING btree ("environment_id");--> statement-breakpoint
CREATE INDEX "campaigns_created_idx" ON "campaigns" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "campaigns_due_idx" ON "campaigns" USING btree ("next_tick_at") WHERE "campaigns"."next_tick_at" is not null;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_current_version_id_image_versions_id_fk" FOREIGN KEY ("current_version_id") REFERENCES "public"."image_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environments" ADD CONSTRAINT "environments_image_version_id_image_versions_id_fk" FOREIGN KEY ("image_version_id") REFERENCES "public"."image_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pipeline_runs" ADD CONSTRAINT "pipeline_runs_image_version_id_image_versions_id_fk" FOREIGN KEY ("image_version_id") REFERENCES "public"."image_versions"("id") ON DELETE no action ON UPDATE no action;