CREATE TABLE "order_secrets" (
	"order_id" uuid NOT NULL,
	"name" text NOT NULL,
	"value" text,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revealed_at" timestamp with time zone,
	"revealed_by" uuid,
	CONSTRAINT "order_secrets_order_id_name_pk" PRIMARY KEY("order_id","name")
);
--> statement-breakpoint
CREATE TABLE "order_uploads" (
	"order_id" uuid NOT NULL,
	"field" text NOT NULL,
	"file_name" text NOT NULL,
	"size" integer NOT NULL,
	"sha256" text NOT NULL,
	"data" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "order_uploads_order_id_field_pk" PRIMARY KEY("order_id","field")
);
--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "recipe_slug" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "recipe" jsonb;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "accounts" jsonb;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "settings" jsonb;--> statement-breakpoint
ALTER TABLE "order_secrets" ADD CONSTRAINT "order_secrets_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_secrets" ADD CONSTRAINT "order_secrets_revealed_by_users_id_fk" FOREIGN KEY ("revealed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_uploads" ADD CONSTRAINT "order_uploads_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;