ALTER TABLE "images" ADD COLUMN "checksum" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "artifact" jsonb;