DROP INDEX "orders_user_idx";--> statement-breakpoint
DROP INDEX "orders_status_idx";--> statement-breakpoint
DROP INDEX "pipeline_steps_name_finished_idx";--> statement-breakpoint
DROP INDEX "audit_events_at_idx";--> statement-breakpoint
CREATE INDEX "audit_events_action_at_idx" ON "audit_events" USING btree ("action","at");--> statement-breakpoint
CREATE INDEX "environments_host_live_idx" ON "environments" USING btree ("host_id") WHERE "environments"."state" <> 'deleted';--> statement-breakpoint
CREATE INDEX "environments_live_expiry_idx" ON "environments" USING btree ("expires_at","id") WHERE "environments"."state" <> 'deleted';--> statement-breakpoint
CREATE INDEX "orders_user_created_idx" ON "orders" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "orders_created_idx" ON "orders" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "orders_status_created_idx" ON "orders" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "orders_group_live_idx" ON "orders" USING btree ("group_id") WHERE "orders"."status" not in ('rejected', 'cancelled', 'retired');--> statement-breakpoint
CREATE INDEX "orders_name_live_idx" ON "orders" USING btree ("name") WHERE "orders"."status" not in ('rejected', 'cancelled', 'retired');--> statement-breakpoint
CREATE INDEX "pipeline_runs_started_idx" ON "pipeline_runs" USING btree ("started_at") WHERE "pipeline_runs"."kind" = 'provision' and "pipeline_runs"."started_at" is not null;--> statement-breakpoint
CREATE INDEX "pipeline_steps_succeeded_idx" ON "pipeline_steps" USING btree ("name","finished_at") WHERE "pipeline_steps"."status" = 'succeeded';--> statement-breakpoint
CREATE INDEX "audit_events_at_idx" ON "audit_events" USING btree ("at","id");