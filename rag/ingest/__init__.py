"""From files to chunks: parsing, archives, chunking, stories, shards, the embedding pipeline and the update plan."""
