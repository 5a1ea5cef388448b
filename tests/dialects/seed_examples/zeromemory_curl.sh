curl -X POST https://api.ainative.studio/api/v1/public/memory/v2/session \
-H "x-api-key: $API_KEY" \
-H "Content-Type: application/json" \
-d '{
"session_id": "session-abc123",
"project_path": "/Users/dev/myapp",
"files_modified": ["app/main.py", "app/api/router.py"],
"key_decisions": [
"Switched to async endpoints for better throughput",
"Added Redis caching layer"
],
"open_tasks": ["Write tests for /api/v1/models/available"],
"event": "pre_compact"
}'
curl "https://api.ainative.studio/api/v1/public/memory/v2/session/latest" \
-H "x-api-key: $API_KEY"
curl "https://api.ainative.studio/api/v1/public/memory/v2/session/{session_id}" \
-H "x-api-key: $API_KEY"
