"""`taxonbot gaps`: where the taxonomy is thin, what it lacks, and what a new leaf adds."""
