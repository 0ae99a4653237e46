"""Qt-aware bridges (QObjects with typed signals that own asyncio tasks); no widgets."""
