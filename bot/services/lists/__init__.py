"""三张清单: the needs list is the open wishes; here the resources list and the projects list."""
