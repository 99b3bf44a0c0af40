"""Dataset exports: the pure file formats (formats) and the database rows they are written from (rows)."""
