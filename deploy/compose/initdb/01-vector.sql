-- Run once by the postgres image when its data directory is new: pgvector for ferry's vector columns.
CREATE EXTENSION IF NOT EXISTS vector;
