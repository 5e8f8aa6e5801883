"""`taxonbot check`: every rule over every file, and the reporters of its findings."""
