from workshop_data.cli import app

app(prog_name="workshop-data")
