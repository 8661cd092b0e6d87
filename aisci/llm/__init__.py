"""The LLM layer: named tasks, backends (OpenAI-compatible endpoints and the offline
engine), the call store, token and cost accounting, budget stop, bounded retries."""

from aisci.llm.client import LLM, TaskResult
from aisci.llm.tasks import Task

__all__ = ["LLM", "TaskResult", "Task"]
