"""Testing helpers: an embedded fake of the Calyptia Cloud API."""
