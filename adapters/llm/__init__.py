"""Language-model adapters: the OpenAI prompt refiner and the OpenAI moderator."""
