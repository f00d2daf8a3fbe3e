CREATE TABLE "project_retention" (
	"project_id" uuid PRIMARY KEY NOT NULL,
	"keep_days" integer,
	"keep_failed_days" integer,
	"updated_at" timestamp with time zone,
	"last_sweep_started_at" timestamp with time zone,
	"last_sweep_finished_at" timestamp with time zone,
	"last_sweep_deleted" integer DEFAULT 0 NOT NULL,
	"last_sweep_bytes_freed" bigint DEFAULT 0 NOT NULL,
	"last_sweep_errors" integer DEFAULT 0 NOT NULL,
	"last_sweep_message" text
);
--> statement-breakpoint
CREATE TABLE "storage_deletion" (
	"storage_key" text PRIMARY KEY NOT NULL,
	"project_id" uuid NOT NULL,
	"episode_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"size_bytes" bigint,
	"created_at" timestamp with time zone NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"recheck" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "project_retention" ADD CONSTRAINT "project_retention_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "storage_deletion_next_attempt_idx" ON "storage_deletion" USING btree ("next_attempt_at");--> statement-breakpoint
CREATE INDEX "storage_deletion_project_idx" ON "storage_deletion" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "eval_result_baseline_episode_idx" ON "eval_result" USING btree ("baseline_episode_id");--> statement-breakpoint
CREATE INDEX "eval_result_candidate_episode_idx" ON "eval_result" USING btree ("candidate_episode_id") WHERE "eval_result"."candidate_episode_id" is not null;