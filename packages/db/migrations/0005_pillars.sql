CREATE TABLE "device_login" (
	"id" uuid PRIMARY KEY NOT NULL,
	"device_code_hash" text NOT NULL,
	"user_code" text NOT NULL,
	"hostname" text,
	"user_agent" text,
	"ip" text,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"last_polled_at" timestamp with time zone,
	"user_id" text,
	"user_email" text,
	"project_id" uuid,
	"api_key_id" uuid
);
--> statement-breakpoint
CREATE TABLE "episode_insight" (
	"episode_id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"analyzer_version" integer NOT NULL,
	"status" text NOT NULL,
	"findings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "eval_result" (
	"id" uuid PRIMARY KEY NOT NULL,
	"eval_run_id" uuid NOT NULL,
	"baseline_episode_id" uuid NOT NULL,
	"candidate_episode_id" uuid,
	"status" text NOT NULL,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"position" integer NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "eval_run" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"name" text,
	"candidate_policy_version" text NOT NULL,
	"baseline_policy_version" text,
	"status" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"summary" jsonb,
	"created_at" timestamp with time zone NOT NULL,
	"finalized_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "verify_check" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"candidate_policy_version" text NOT NULL,
	"passed" boolean NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "verify_result" (
	"id" uuid PRIMARY KEY NOT NULL,
	"scenario_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"candidate_policy_version" text NOT NULL,
	"status" text NOT NULL,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"candidate_episode_id" uuid,
	"eval_run_id" uuid,
	"error" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "verify_scenario" (
	"id" uuid PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"baseline_episode_id" uuid NOT NULL,
	"name" text,
	"description" text,
	"severity" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "device_login" ADD CONSTRAINT "device_login_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_login" ADD CONSTRAINT "device_login_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "episode_insight" ADD CONSTRAINT "episode_insight_episode_id_episode_id_fk" FOREIGN KEY ("episode_id") REFERENCES "public"."episode"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "eval_result" ADD CONSTRAINT "eval_result_eval_run_id_eval_run_id_fk" FOREIGN KEY ("eval_run_id") REFERENCES "public"."eval_run"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "eval_run" ADD CONSTRAINT "eval_run_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verify_check" ADD CONSTRAINT "verify_check_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verify_result" ADD CONSTRAINT "verify_result_scenario_id_verify_scenario_id_fk" FOREIGN KEY ("scenario_id") REFERENCES "public"."verify_scenario"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verify_scenario" ADD CONSTRAINT "verify_scenario_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verify_scenario" ADD CONSTRAINT "verify_scenario_baseline_episode_id_episode_id_fk" FOREIGN KEY ("baseline_episode_id") REFERENCES "public"."episode"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "device_login_device_code_idx" ON "device_login" USING btree ("device_code_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "device_login_user_code_idx" ON "device_login" USING btree ("user_code");--> statement-breakpoint
CREATE INDEX "device_login_expires_idx" ON "device_login" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "eval_result_run_baseline_idx" ON "eval_result" USING btree ("eval_run_id","baseline_episode_id");--> statement-breakpoint
CREATE INDEX "eval_run_project_created_idx" ON "eval_run" USING btree ("project_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "verify_check_project_created_idx" ON "verify_check" USING btree ("project_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "verify_result_scenario_version_idx" ON "verify_result" USING btree ("scenario_id","candidate_policy_version","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "verify_scenario_project_baseline_idx" ON "verify_scenario" USING btree ("project_id","baseline_episode_id");