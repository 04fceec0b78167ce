CREATE TABLE "network_routes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"network_a" uuid NOT NULL,
	"network_b" uuid NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "network_routes_pair" UNIQUE("network_a","network_b"),
	CONSTRAINT "network_routes_ordered" CHECK ("network_routes"."network_a" < "network_routes"."network_b")
);
--> statement-breakpoint
CREATE TABLE "service_ip_moves" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"service_ip_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"from_environment_id" uuid,
	"to_environment_id" uuid,
	"status" text DEFAULT 'queued' NOT NULL,
	"requested_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"downtime_ms" integer,
	"total_ms" integer,
	"note" text,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "service_ips" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"group_id" uuid NOT NULL,
	"network_id" uuid NOT NULL,
	"name" text NOT NULL,
	"ip" text NOT NULL,
	"mac" text NOT NULL,
	"environment_id" uuid,
	"attached_at" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_ips_group_name" UNIQUE("group_id","name"),
	CONSTRAINT "service_ips_network_ip" UNIQUE("network_id","ip")
);
--> statement-breakpoint
ALTER TABLE "ip_allocations" ALTER COLUMN "order_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "ip_allocations" ADD COLUMN "service_ip_id" uuid;--> statement-breakpoint
ALTER TABLE "environment_actions" ADD COLUMN "service_ip_move_id" uuid;--> statement-breakpoint
ALTER TABLE "network_routes" ADD CONSTRAINT "network_routes_network_a_networks_id_fk" FOREIGN KEY ("network_a") REFERENCES "public"."networks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_routes" ADD CONSTRAINT "network_routes_network_b_networks_id_fk" FOREIGN KEY ("network_b") REFERENCES "public"."networks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_routes" ADD CONSTRAINT "network_routes_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_ip_moves" ADD CONSTRAINT "service_ip_moves_service_ip_id_service_ips_id_fk" FOREIGN KEY ("service_ip_id") REFERENCES "public"."service_ips"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_ip_moves" ADD CONSTRAINT "service_ip_moves_from_environment_id_environments_id_fk" FOREIGN KEY ("from_environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_ip_moves" ADD CONSTRAINT "service_ip_moves_to_environment_id_environments_id_fk" FOREIGN KEY ("to_environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_ip_moves" ADD CONSTRAINT "service_ip_moves_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_ips" ADD CONSTRAINT "service_ips_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_ips" ADD CONSTRAINT "service_ips_network_id_networks_id_fk" FOREIGN KEY ("network_id") REFERENCES "public"."networks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_ips" ADD CONSTRAINT "service_ips_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_ips" ADD CONSTRAINT "service_ips_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "service_ip_moves_ip_idx" ON "service_ip_moves" USING btree ("service_ip_id","created_at");--> statement-breakpoint
CREATE INDEX "service_ips_environment_idx" ON "service_ips" USING btree ("environment_id");--> statement-breakpoint
ALTER TABLE "ip_allocations" ADD CONSTRAINT "ip_allocations_service_ip_id_service_ips_id_fk" FOREIGN KEY ("service_ip_id") REFERENCES "public"."service_ips"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environment_actions" ADD CONSTRAINT "environment_actions_service_ip_move_id_service_ip_moves_id_fk" FOREIGN KEY ("service_ip_move_id") REFERENCES "public"."service_ip_moves"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ip_allocations" ADD CONSTRAINT "ip_allocations_one_holder" CHECK (("ip_allocations"."order_id" is null) <> ("ip_allocations"."service_ip_id" is null));