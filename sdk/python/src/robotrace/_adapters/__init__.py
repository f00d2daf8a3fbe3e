"""How the adapters (``robotrace.adapters.*``) are built. Nothing here is public: the public modules in
``robotrace.adapters`` re-export the names users may rely on."""
