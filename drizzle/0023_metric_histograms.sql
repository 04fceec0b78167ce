CREATE TABLE "metric_histograms" (
	"name" text NOT NULL,
	"labels" text NOT NULL,
	"bounds" double precision[] NOT NULL,
	"buckets" bigint[] NOT NULL,
	"sum" double precision DEFAULT 0 NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "metric_histograms_name_labels_pk" PRIMARY KEY("name","labels")
);
