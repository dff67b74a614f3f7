"""Access Codes: grants a partner issues, numbered per partner, claimed once by one business."""
