"""Moodle question banks in and out: GIFT and Moodle XML read into one model (`model`), mapped onto our quiz
questions (`mapping`), written as a quiz file (`writing`) and exported back to GIFT (`gift_export`). Pure modules:
no database, no app; the commands (`commands`) put them together with `lms check-content`'s checks."""
