"""The approval service: parallel review of cross-provincial permit applications and the permits issued from them."""
