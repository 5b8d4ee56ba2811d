"""Screens generated from the descriptors (list, show, add, edit, delete) and their JSON helpers."""
