"""Development entry point: `python run.py` serves the app; FLASK_APP=run for the `flask` commands."""
import os

from app import create_app_or_exit

app = create_app_or_exit()

if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")),
            debug=os.environ.get("FLASK_DEBUG") == "1", use_reloader=False)
