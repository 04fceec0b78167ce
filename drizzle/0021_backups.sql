CREATE TABLE "backup_action_targets" (
	"action_id" uuid PRIMARY KEY NOT NULL,
	"backup_id" uuid NOT NULL,
	"mode" text
);
--> statement-breakpoint
CREATE TABLE "backup_clones" (
	"order_id" uuid PRIMARY KEY NOT NULL,
	"backup_id" uuid NOT NULL,
	"requested_by" uuid NOT NULL,
	"action_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backup_policies" (
	"environment_id" uuid PRIMARY KEY NOT NULL,
	"schedule" text NOT NULL,
	"keep_last" integer NOT NULL,
	"set_by" uuid NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"environment_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"action_id" uuid NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"file" text,
	"size_bytes" bigint,
	"sha256" text,
	"definition" jsonb,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"verified_at" timestamp with time zone,
	"verify_note" text,
	"marker" text
);
--> statement-breakpoint
CREATE TABLE "group_backup_rules" (
	"group_id" uuid PRIMARY KEY NOT NULL,
	"max_backups" integer,
	"max_gb" integer,
	"required_schedule" text,
	"required_keep_last" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "backup_action_targets" ADD CONSTRAINT "backup_action_targets_action_id_environment_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."environment_actions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_action_targets" ADD CONSTRAINT "backup_action_targets_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_clones" ADD CONSTRAINT "backup_clones_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_clones" ADD CONSTRAINT "backup_clones_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_clones" ADD CONSTRAINT "backup_clones_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_clones" ADD CONSTRAINT "backup_clones_action_id_environment_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."environment_actions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_policies" ADD CONSTRAINT "backup_policies_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backup_policies" ADD CONSTRAINT "backup_policies_set_by_users_id_fk" FOREIGN KEY ("set_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backups" ADD CONSTRAINT "backups_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backups" ADD CONSTRAINT "backups_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backups" ADD CONSTRAINT "backups_action_id_environment_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."environment_actions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_backup_rules" ADD CONSTRAINT "group_backup_rules_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "backups_env_idx" ON "backups" USING btree ("environment_id");--> statement-breakpoint
CREATE INDEX "backups_action_idx" ON "backups" USING btree ("action_id");