using Ujumbe.Web.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddWebServices();

var app = builder.Build();

app.MapDashboard();

await app.RunAsync();

public partial class Program;
