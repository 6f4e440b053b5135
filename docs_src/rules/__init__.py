"""Wrong and right examples for each rule page."""
