"""CSV import of leads: reading, mapping, row normalization, running and reverting."""

from leads.importing.mapping import auto_map, detect_vendor, target_choices
from leads.importing.reading import MAX_UPLOAD_BYTES, UnreadableFile, sniff
from leads.importing.running import (
    InvalidImport,
    check_upload_size,
    clean_mapping,
    create_job,
    custom_field_labels,
    eta_seconds,
    failed_rows_csv,
    preview,
    progress_percent,
    request_revert,
    revert,
    run,
    start_job,
)

__all__ = [
    "MAX_UPLOAD_BYTES",
    "InvalidImport",
    "UnreadableFile",
    "auto_map",
    "check_upload_size",
    "clean_mapping",
    "create_job",
    "custom_field_labels",
    "detect_vendor",
    "eta_seconds",
    "failed_rows_csv",
    "preview",
    "progress_percent",
    "request_revert",
    "revert",
    "run",
    "sniff",
    "start_job",
    "target_choices",
]
