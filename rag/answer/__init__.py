"""From hits to an answer: scoring sentences, composing the extractive answer, conversations, serialising, example questions."""
