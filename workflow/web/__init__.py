"""The HTML pages, split by family, with their forms and the dashboard's exports."""
