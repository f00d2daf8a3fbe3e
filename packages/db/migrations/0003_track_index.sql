CREATE TABLE "track_index" (
	"episode_id" uuid NOT NULL,
	"artifact_kind" text NOT NULL,
	"project_id" uuid NOT NULL,
	"format" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"indexed_at" timestamp with time zone NOT NULL,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tracks" jsonb DEFAULT '[]'::jsonb NOT NULL,
	CONSTRAINT "track_index_episode_id_artifact_kind_pk" PRIMARY KEY("episode_id","artifact_kind")
);
--> statement-breakpoint
ALTER TABLE "track_index" ADD CONSTRAINT "track_index_episode_id_episode_id_fk" FOREIGN KEY ("episode_id") REFERENCES "public"."episode"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "track_index" ADD CONSTRAINT "track_index_project_id_project_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."project"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "track_index_project_episode_idx" ON "track_index" USING btree ("project_id","episode_id");