using Ujumbe.Api.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

await app.PrepareDatabaseAsync();
app.MapUjumbeApi();

await app.RunAsync();

public partial class Program;
