CREATE TYPE "public"."asset_media_type" AS ENUM('image', 'video');--> statement-breakpoint
CREATE TYPE "public"."asset_status" AS ENUM('uploading', 'processing', 'ready', 'failed');--> statement-breakpoint
CREATE TYPE "public"."asset_sync_status" AS ENUM('remote', 'downloading', 'downloaded', 'error');--> statement-breakpoint
CREATE TYPE "public"."asset_variant_kind" AS ENUM('thumb', 'poster');--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "asset_lineage" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"child_asset_id" uuid NOT NULL,
	"parent_asset_id" uuid NOT NULL,
	"relation" text NOT NULL,
	"operation_type" text,
	"job_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "asset_lineage_not_self" CHECK ("asset_lineage"."child_asset_id" <> "asset_lineage"."parent_asset_id")
);
--> statement-breakpoint
CREATE TABLE "asset_provider_uploads" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"asset_id" uuid NOT NULL,
	"provider_id" text NOT NULL,
	"provider_account_id" uuid NOT NULL,
	"provider_upload_id" text NOT NULL,
	"uploaded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "asset_variants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"asset_id" uuid NOT NULL,
	"kind" "asset_variant_kind" NOT NULL,
	"size" integer NOT NULL,
	"format" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"byte_size" bigint NOT NULL,
	"storage_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "assets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"workspace_id" uuid,
	"media_type" "asset_media_type" NOT NULL,
	"mime" text NOT NULL,
	"status" "asset_status" DEFAULT 'uploading' NOT NULL,
	"error_message" text,
	"sha256" text,
	"file_size_bytes" bigint,
	"width" integer,
	"height" integer,
	"duration_sec" double precision,
	"original_filename" text,
	"storage_key" text,
	"storage_bytes_charged" bigint DEFAULT 0 NOT NULL,
	"provider_id" text,
	"provider_asset_id" text,
	"provider_account_id" uuid,
	"remote_url" text,
	"sync_status" "asset_sync_status",
	"source_job_id" uuid,
	"placeholder_hash" text,
	"upload_token_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"downloaded_at" timestamp with time zone,
	"last_accessed_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"purged_at" timestamp with time zone,
	CONSTRAINT "assets_storage_bytes_charged_nonnegative" CHECK ("assets"."storage_bytes_charged" >= 0)
);
--> statement-breakpoint
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "asset_lineage" ADD CONSTRAINT "asset_lineage_child_asset_id_assets_id_fk" FOREIGN KEY ("child_asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "asset_lineage" ADD CONSTRAINT "asset_lineage_parent_asset_id_assets_id_fk" FOREIGN KEY ("parent_asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "asset_provider_uploads" ADD CONSTRAINT "asset_provider_uploads_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "asset_variants" ADD CONSTRAINT "asset_variants_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assets" ADD CONSTRAINT "assets_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assets" ADD CONSTRAINT "assets_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "workspaces_owner_name_key" ON "workspaces" USING btree ("owner_id",lower("name"));--> statement-breakpoint
CREATE INDEX "workspaces_owner_created_idx" ON "workspaces" USING btree ("owner_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "asset_lineage_edge_key" ON "asset_lineage" USING btree ("child_asset_id","parent_asset_id","relation");--> statement-breakpoint
CREATE INDEX "asset_lineage_parent_idx" ON "asset_lineage" USING btree ("parent_asset_id");--> statement-breakpoint
CREATE UNIQUE INDEX "asset_provider_uploads_key" ON "asset_provider_uploads" USING btree ("asset_id","provider_id","provider_account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "asset_variants_asset_kind_size_key" ON "asset_variants" USING btree ("asset_id","kind","size");--> statement-breakpoint
CREATE UNIQUE INDEX "assets_owner_sha256_key" ON "assets" USING btree ("owner_id","sha256") WHERE "assets"."sha256" is not null and "assets"."purged_at" is null and "assets"."status" <> 'failed';--> statement-breakpoint
CREATE UNIQUE INDEX "assets_provider_asset_key" ON "assets" USING btree ("provider_id","provider_asset_id") WHERE "assets"."provider_asset_id" is not null;--> statement-breakpoint
CREATE INDEX "assets_owner_created_idx" ON "assets" USING btree ("owner_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "assets_workspace_created_idx" ON "assets" USING btree ("workspace_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "assets_storage_key_idx" ON "assets" USING btree ("storage_key");--> statement-breakpoint
CREATE INDEX "assets_trash_idx" ON "assets" USING btree ("deleted_at") WHERE "assets"."deleted_at" is not null and "assets"."purged_at" is null;