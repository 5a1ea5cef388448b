import requests

API_KEY = "your-api-key"
BASE = "https://api.ainative.studio/api/v1/public/memory/v2/session"
headers = {"x-api-key": API_KEY, "Content-Type": "application/json"}

# Save session state before compaction
requests.post(
    BASE,
    headers=headers,
    json={
        "session_id": "my-session-001",
        "project_path": "/Users/dev/project",
        "files_modified": ["src/main.py"],
        "key_decisions": ["Refactored auth middleware to use JWT"],
        "open_tasks": ["Add rate limiting to /api/v1/messages"],
        "event": "pre_compact",
    },
)

# Restore on next session start
latest = requests.get(f"{BASE}/latest", headers=headers).json()
print(f"Restoring session: {latest['session_id']}")
print(f"Open tasks: {latest['session_data']['open_tasks']}")
