CREATE TYPE "public"."provider_account_status" AS ENUM('active', 'cooldown', 'exhausted', 'disabled');--> statement-breakpoint
CREATE TYPE "public"."error_class" AS ENUM('request', 'account', 'transient', 'internal', 'cancelled', 'timeout');--> statement-breakpoint
CREATE TYPE "public"."job_status" AS ENUM('pending', 'queued', 'processing', 'completed', 'failed', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."operation_type" AS ENUM('text_to_video', 'image_to_video', 'video_extend', 'video_transition', 'fusion');--> statement-breakpoint
CREATE TYPE "public"."submission_status" AS ENUM('submitting', 'submitted', 'succeeded', 'failed', 'cancelled');--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"type" text NOT NULL,
	"job_id" uuid,
	"asset_id" uuid,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"workspace_id" uuid,
	"name" text,
	"operation_type" "operation_type" NOT NULL,
	"provider_id" text NOT NULL,
	"params" jsonb NOT NULL,
	"prompt" text,
	"status" "job_status" DEFAULT 'pending' NOT NULL,
	"priority" integer DEFAULT 5 NOT NULL,
	"scheduled_at" timestamp with time zone,
	"parent_job_id" uuid,
	"idempotency_key" text,
	"request_hash" text,
	"error_message" text,
	"error_class" "error_class",
	"retry_count" integer DEFAULT 0 NOT NULL,
	"wait_reason" text,
	"progress" double precision,
	"asset_id" uuid,
	"account_id" uuid,
	"holds_slot" boolean DEFAULT false NOT NULL,
	"credits_charged" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"queued_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "jobs_priority_range" CHECK ("jobs"."priority" between 0 and 10)
);
--> statement-breakpoint
CREATE TABLE "provider_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider_id" text NOT NULL,
	"label" text NOT NULL,
	"owner_id" uuid,
	"credentials_encrypted" text NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"status" "provider_account_status" DEFAULT 'active' NOT NULL,
	"credits" jsonb,
	"max_concurrent_jobs" integer DEFAULT 1 NOT NULL,
	"current_jobs" integer DEFAULT 0 NOT NULL,
	"cooldown_until" timestamp with time zone,
	"recent_failures" integer DEFAULT 0 NOT NULL,
	"recent_failures_since" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"success_count" integer DEFAULT 0 NOT NULL,
	"failure_count" integer DEFAULT 0 NOT NULL,
	"avg_generation_sec" double precision,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_accounts_current_jobs_nonnegative" CHECK ("provider_accounts"."current_jobs" >= 0),
	CONSTRAINT "provider_accounts_max_concurrent_positive" CHECK ("provider_accounts"."max_concurrent_jobs" >= 1)
);
--> statement-breakpoint
CREATE TABLE "provider_submissions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"job_id" uuid NOT NULL,
	"provider_id" text NOT NULL,
	"account_id" uuid,
	"payload" jsonb NOT NULL,
	"response" jsonb,
	"provider_task_id" text,
	"retry_attempt" integer DEFAULT 0 NOT NULL,
	"previous_submission_id" uuid,
	"status" "submission_status" DEFAULT 'submitting' NOT NULL,
	"error_class" "error_class",
	"error_message" text,
	"result_url" text,
	"deadline_at" timestamp with time zone,
	"submitted_at" timestamp with time zone,
	"responded_at" timestamp with time zone,
	"duration_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"url" text NOT NULL,
	"secret_encrypted" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_parent_job_id_jobs_id_fk" FOREIGN KEY ("parent_job_id") REFERENCES "public"."jobs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_asset_id_assets_id_fk" FOREIGN KEY ("asset_id") REFERENCES "public"."assets"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_account_id_provider_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."provider_accounts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_accounts" ADD CONSTRAINT "provider_accounts_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_submissions" ADD CONSTRAINT "provider_submissions_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_submissions" ADD CONSTRAINT "provider_submissions_account_id_provider_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."provider_accounts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_submissions" ADD CONSTRAINT "provider_submissions_previous_submission_id_provider_submissions_id_fk" FOREIGN KEY ("previous_submission_id") REFERENCES "public"."provider_submissions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_owner_id_idx" ON "events" USING btree ("owner_id","id");--> statement-breakpoint
CREATE INDEX "events_created_idx" ON "events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "jobs_owner_created_idx" ON "jobs" USING btree ("owner_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "jobs_status_priority_idx" ON "jobs" USING btree ("status","priority","created_at");--> statement-breakpoint
CREATE INDEX "jobs_parent_idx" ON "jobs" USING btree ("parent_job_id") WHERE "jobs"."parent_job_id" is not null;--> statement-breakpoint
CREATE INDEX "jobs_account_slot_idx" ON "jobs" USING btree ("account_id") WHERE "jobs"."holds_slot";--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_owner_idempotency_key" ON "jobs" USING btree ("owner_id","idempotency_key") WHERE "jobs"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "provider_accounts_provider_idx" ON "provider_accounts" USING btree ("provider_id","status");--> statement-breakpoint
CREATE INDEX "provider_accounts_owner_idx" ON "provider_accounts" USING btree ("owner_id");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_submissions_job_attempt_key" ON "provider_submissions" USING btree ("job_id","retry_attempt");--> statement-breakpoint
CREATE INDEX "provider_submissions_job_idx" ON "provider_submissions" USING btree ("job_id","created_at");--> statement-breakpoint
CREATE INDEX "webhooks_owner_idx" ON "webhooks" USING btree ("owner_id");