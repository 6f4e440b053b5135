from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/events")
async def receive(request: Request) -> dict[str, int]:
    payload = await request.json()  # typed Any: what is in it is not known
    events = payload.get("events", [])
    return {"received": len(events)}
