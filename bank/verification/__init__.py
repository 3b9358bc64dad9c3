"""Second-person verification of entries made by others (four eyes, 21 CFR 11.10(f), 11.50), one entry or
many at once under one electronic signature. bank knows no domain: each domain registers its kinds of
verifiable entries (`register_kind`, from its `init_app`); this package lists, shows and verifies them."""
