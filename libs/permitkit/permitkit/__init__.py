"""permitkit: the domain-free runtime shared by every permit service."""
