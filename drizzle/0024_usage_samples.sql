CREATE TABLE "usage_samples" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "usage_samples_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"scope" text NOT NULL,
	"subject_id" uuid NOT NULL,
	"environment_id" uuid,
	"host_id" uuid NOT NULL,
	"resolution" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"cpu_percent" real,
	"memory_bytes" bigint,
	"disk_bytes" bigint,
	"rx_bytes_per_sec" real,
	"tx_bytes_per_sec" real,
	"points" integer DEFAULT 1 NOT NULL,
	"cpu_seconds" double precision,
	"rx_bytes_total" bigint,
	"tx_bytes_total" bigint
);
--> statement-breakpoint
ALTER TABLE "usage_samples" ADD CONSTRAINT "usage_samples_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_samples" ADD CONSTRAINT "usage_samples_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "usage_samples_subject_idx" ON "usage_samples" USING btree ("subject_id","resolution","at");--> statement-breakpoint
CREATE INDEX "usage_samples_age_idx" ON "usage_samples" USING btree ("resolution","at");--> statement-breakpoint
CREATE INDEX "usage_samples_host_idx" ON "usage_samples" USING btree ("host_id","at") WHERE "usage_samples"."scope" = 'host' and "usage_samples"."resolution" = 'raw';