"""OGC API – Features, Part 1 core with GeoJSON, over every registered vector layer."""
