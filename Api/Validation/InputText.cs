namespace Ujumbe.Api.Validation;

/// <summary>
/// Which characters a text the API stores or sends may hold (decision 0014): none of the C0 controls
/// but tab, line feed, form feed (in GSM 03.38's extension table) and carriage return (PostgreSQL's
/// text refuses NUL outright, and no carrier can carry the others), no DEL or C1 controls, and no
/// unpaired UTF-16 surrogate (not Unicode text at all: it cannot be written as UTF-8).
/// </summary>
public static class InputText
{
    public const string ForbiddenMessage =
        "must not contain control characters (other than tab, line breaks and form feed) or invalid Unicode";

    public const string NotUtf8Message = "is not valid UTF-8 text";

    /// <summary>True when <paramref name="text"/> holds nothing the rules above refuse.</summary>
    public static bool IsAcceptable(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < ' ')
            {
                if (c is not ('\t' or '\n' or '\f' or '\r'))
                {
                    return false;
                }
            }
            else if (c is >= '\u007f' and <= '\u009f')
            {
                return false;
            }
            else if (char.IsHighSurrogate(c))
            {
                if (i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }
                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }
        return true;
    }

    public static bool IsAcceptable(string? text) => text is null || IsAcceptable(text.AsSpan());
}
