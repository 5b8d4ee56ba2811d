"""Excel: templates from the metadata, imports checked like forms and written all or nothing, streamed exports."""
